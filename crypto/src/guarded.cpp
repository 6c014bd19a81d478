#include "natter/crypto/guarded.hpp"

#include <sodium.h>

namespace natter::crypto::detail {

void* guarded_allocate(std::size_t size) {
  // sodium_malloc puts the end of the region against the guard page, so the start lies `size`
  // bytes before a page boundary: aligned for any T, as sizeof(T) is a multiple of alignof(T).
  void* p = sodium_malloc(size);
  if (!p) throw std::bad_alloc();
  return p;
}

void guarded_free(void* p) noexcept { sodium_free(p); }

}  // namespace natter::crypto::detail
