// How a kernel call ended.
#pragma once

namespace ws::kernels {

/// `canceled`: the kernel's checkpoint fired between two bands; outputs are unspecified.
enum class Status { ok, canceled };

}  // namespace ws::kernels
