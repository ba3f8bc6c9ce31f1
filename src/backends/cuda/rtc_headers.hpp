#pragma once
// The kernel headers that run-time compiled sources include, embedded in the library when it is
// built (cmake/embed_rtc_headers.cmake writes their definition from the files themselves).
#include <span>

namespace tenflowers::cuda {

struct RtcHeader {
  const char* path;  // relative to the repository root, as the headers include each other
  const char* text;
};
std::span<const RtcHeader> rtc_headers();

}  // namespace tenflowers::cuda
