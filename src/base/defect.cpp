// Polarity's stable names, as written to the store, events and JSON.
#include "waferscan/defect.hpp"

namespace ws {

std::string_view to_string(Polarity p) noexcept {
  return p == Polarity::bright ? "bright" : "dark";
}

}  // namespace ws
