// Broken-invariant checks (the second kind of failure in the conventions): IPSEC_DCHECK aborts in
// debug builds only; IPSEC_BUG(id) logs once per site and counts in every build, and the caller
// then fails closed. Never use either for something the network or the card can cause: that is
// untrusted input and gets a Status or a DropReason.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

namespace ipsec {

// Total IPSEC_BUG hits in this process (exported in statistics).
std::atomic<uint64_t>& BugCount();
void ReportBug(const char* id, const char* file, int line);

}  // namespace ipsec

#ifdef NDEBUG
#define IPSEC_DCHECK(cond) ((void)0)
#else
#define IPSEC_DCHECK(cond) assert(cond)
#endif

#define IPSEC_BUG(id) ::ipsec::ReportBug(#id, __FILE__, __LINE__)
