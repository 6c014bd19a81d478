#pragma once
// A long-lived secret in libsodium's guarded heap (sodium_malloc): the object sits in its own
// locked pages (mlock, so never swapped out), with guard pages around it (an overrun or
// underrun faults instead of reading a neighbour) and a canary; sodium_free wipes it. For the
// secrets a process holds from start to end — the server's static key, the user's identity —
// not for per-connection keys: each guarded object costs several pages and counts against
// RLIMIT_MEMLOCK, so ten thousand connections could not each have one.
//
// Not copyable or movable: the object stays where it was made. Throws std::bad_alloc if
// libsodium cannot allocate (for instance when the memlock limit is reached).
#include <new>
#include <utility>

namespace natter::crypto {

namespace detail {
void* guarded_allocate(std::size_t size);
void guarded_free(void* p) noexcept;
}  // namespace detail

template <typename T>
class guarded {
 public:
  template <typename... Args>
  explicit guarded(Args&&... args) : object_(static_cast<T*>(detail::guarded_allocate(sizeof(T)))) {
    try {
      ::new (static_cast<void*>(object_)) T(std::forward<Args>(args)...);
    } catch (...) {
      detail::guarded_free(object_);
      throw;
    }
  }
  ~guarded() {
    object_->~T();
    detail::guarded_free(object_);
  }
  guarded(const guarded&) = delete;
  guarded& operator=(const guarded&) = delete;

  [[nodiscard]] T& operator*() { return *object_; }
  [[nodiscard]] const T& operator*() const { return *object_; }
  [[nodiscard]] T* operator->() { return object_; }
  [[nodiscard]] const T* operator->() const { return object_; }

 private:
  T* object_;
};

}  // namespace natter::crypto
