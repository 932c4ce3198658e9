// The one thing an agent needs from whoever owns the clock: advance it.
#pragma once

#include <cstdint>

namespace ipsec::sim {

class CycleRunner {
 public:
  // Runs `cycles` full clock cycles (every agent driven and sampled in each).
  virtual void Step(uint64_t cycles) = 0;
  virtual uint64_t cycle() const = 0;

 protected:
  ~CycleRunner() = default;
};

}  // namespace ipsec::sim
