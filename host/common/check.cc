// IPSEC_BUG reporting: one line on stderr per distinct site (bounded), a process-wide counter.
#include "host/common/check.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

namespace ipsec {

std::atomic<uint64_t>& BugCount() {
  static std::atomic<uint64_t> count{0};
  return count;
}

void ReportBug(const char* id, const char* file, int line) {
  BugCount().fetch_add(1, std::memory_order_relaxed);
  static std::mutex mu;
  static std::set<std::string> seen;  // guarded by mu; bounded by the number of IPSEC_BUG sites
  std::lock_guard<std::mutex> lock(mu);
  if (seen.insert(id).second) std::fprintf(stderr, "IPSEC_BUG(%s) at %s:%d\n", id, file, line);
}

}  // namespace ipsec
