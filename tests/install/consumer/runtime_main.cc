// A program outside the tree on the installed runtime: a Runtime without a card (every SA in
// software) and its Prometheus metrics, through ipsec_runtime_control and its JSON dependency.
#include <cstdio>
#include <string>

#include "host/runtime/runtime.h"
#include "host/runtime/runtime_control.h"

int main() {
  using namespace ipsec;
  runtime::RuntimeOptions o;
  o.use_card = false;
  auto rt = runtime::Runtime::Create(std::move(o));
  if (!rt.ok()) return 1;
  const std::string text = runtime::RenderPrometheus(**rt);
  if (text.find("# TYPE") == std::string::npos) return 2;
  std::printf("runtime metrics: %zu bytes\n", text.size());
  return 0;
}
