#include "tenflowers/core/device.hpp"

#include <atomic>

#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {
std::atomic<int> g_default_device_packed{0};  // type * 65536 + index
}

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda" || text == "gpu") return cuda(0);
  for (const std::string prefix : {"cuda:", "gpu:"}) {
    if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size()) {
      const std::string digits = text.substr(prefix.size());
      if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 6) {
        return cuda(std::stoi(digits));
      }
    }
  }
  throw InvalidArgument("unknown device '" + text + "'; expected 'cpu', 'cuda' or 'cuda:N'");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device default_device() {
  const int packed = g_default_device_packed.load(std::memory_order_relaxed);
  return {static_cast<DeviceType>(packed >> 16), packed & 0xffff};
}

void store_default_device(Device device) {
  g_default_device_packed.store((static_cast<int>(device.type) << 16) | device.index);
}

}  // namespace tenflowers
