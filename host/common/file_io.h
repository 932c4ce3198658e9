// Reading small configuration and key files whole. The buffer is sized once from fstat, so no
// reallocation leaves copies of secret text behind in freed memory; callers holding secrets wipe
// the buffer when done.
#pragma once

#include <cstddef>
#include <string>

#include "host/common/status.h"

namespace ipsec {

// Reads a regular file of at most `max_bytes` into `out`. Errors: kNotFound (cannot open, with the
// OS reason), kInvalidArgument (not a regular file, or larger than max_bytes). Messages start with
// the path.
[[nodiscard]] Status ReadSmallFile(const std::string& path, size_t max_bytes, std::string* out);

}  // namespace ipsec
