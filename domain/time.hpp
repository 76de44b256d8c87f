// Time is always passed in: the domain never reads a clock.
#pragma once

#include <chrono>

namespace tl {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;
using Days = std::chrono::days;

}  // namespace tl
