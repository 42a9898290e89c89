/* tbb_tsan_bridge: tells ThreadSanitizer about the synchronisation inside Debian's libtbb.

   Why: libtbb.so.12 from Debian is not built with -fsanitize=thread, so TSan does not see the
   atomics and futexes with which libtbb hands a task from one thread to another, nor the reuse of
   task memory that one thread frees to its small-object pool and another thread allocates again.
   Every flow-graph message then looks like a race between the thread that built it and the thread
   that ran the node body (hundreds of reports per graph test). This library adds exactly those
   happens-before edges, in three places, and nothing else:

   1. An ITT collector. With -DTBB_USE_PROFILING_TOOLS=2 (the tsan build sets it for every file),
      the TBB headers report each hand-off through r1::call_itt_notify: "releasing" on a task just
      before it is spawned or submitted, "acquired" on a wait_context once a wait returns, the same
      for flow-graph aggregators, concurrent queues and TBB mutexes. libtbb itself makes the same
      calls from its own code. Those calls are forwarded to whatever ITT collector libtbb finds:
      when INTEL_LIBITTNOTIFY64 names a shared library, libtbb dlopen()s it and calls its
      __itt_api_init(), which fills libtbb's table of ITT function pointers. Ours points
      __itt_sync_releasing at __tsan_release and __itt_sync_acquired at __tsan_acquire; every
      other entry is left at its "not collected" value.

   2. The small-object pool. Task objects come from tbb::detail::r1::allocate(small_object_pool*&,
      ...) and go back through r1::deallocate(small_object_pool&, ...), both in libtbb. A block a
      worker frees can be handed to another thread's next allocation through the pool's lock-free
      lists, so TSan sees two unordered writes to the same memory (a "race" on the task's vptr).
      With LD_PRELOAD of this library, the headers' calls to these four exported functions land
      here first: deallocate releases on the block's address before handing it back, allocate
      acquires on it after receiving it.

   3. The end of a wait. wait_context::add_reference() (inline, so instrumented) notifies
      "releasing" and only then decrements the reference count with an atomic fetch_add; the waiting
      thread reads that count inside libtbb (not instrumented). The "acquired" that follows the wait
      therefore orders everything before the decrement but not the decrement itself, and TSan
      reports the waiter reusing the wait_context's memory (a parallel_for's wait_context on the
      stack, the next loop round's one at the same address) as a race with the worker's fetch_add.
      We interpose r1::wait and r1::execute_and_wait and, once they return, acquire on the
      reference count's address: TSan's own model of the instrumented fetch_add released there.

   How it is used (CMakePresets.json, tsan test preset; .ci/sanitizers):
     LD_PRELOAD=<abs>/libtbb_tsan_bridge.so INTEL_LIBITTNOTIFY64=<abs>/libtbb_tsan_bridge.so
   The same file serves both purposes. It must be built without -fsanitize (tests/tsan/
   CMakeLists.txt): it runs inside libtbb's calls and only forwards to the TSan runtime, which the
   sanitized program brings. In a process without TSan (ctest itself, say) the weak __tsan_*
   references are null and the library does nothing. The layouts used below are ittnotify's
   collector interface (checked: its descriptor carries a magic number) and oneTBB's binary
   interface (libtbb.so.12: the headers and the library must agree on it, so it cannot change
   without a new soname). */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The TSan runtime's annotation entry points (libtsan / the clang runtime). Weak: absent when the
   library is preloaded into a program that is not sanitized. */
extern void __tsan_acquire(void* addr) __attribute__((weak));
extern void __tsan_release(void* addr) __attribute__((weak));

static void tsan_acquire(void* addr) {
  if (__tsan_acquire && addr) __tsan_acquire(addr);
}
static void tsan_release(void* addr) {
  if (__tsan_release && addr) __tsan_release(addr);
}

/* ---------------------------------------------------------------------------------------------
   1. ITT collector.
   libtbb's copy of ittnotify's static part keeps one global descriptor, whose address it passes to
   __itt_api_init(). We need its magic number (to be sure of what we were given) and its list of
   API entries: {name, address of the function pointer libtbb calls through, the pointer's initial
   value, its "not collected" value, group}, ended by an entry with a null name. The struct layout
   is ittnotify's, 8-byte packed; only the fields up to the list are declared here. */

typedef struct {
  const char* name;
  void** func_ptr;
  void* init_func;
  void* null_func;
  int group;
} itt_api_entry;

typedef struct {
  unsigned char magic[8];
  unsigned long version_major, version_minor, version_build;
  volatile long api_initialized, mutex_initialized, atomic_counter;
  pthread_mutex_t mutex;
  void* lib;
  void* error_handler;
  const char** dll_path_ptr;
  itt_api_entry* api_list;
  /* more fields follow; not used */
} itt_global;

static const unsigned char itt_magic[8] = {0xED, 0xAB, 0xAB, 0xEC, 0x0D, 0xEE, 0xDA, 0x30};

/* The ITT sync calls all take the object's address as their only argument. */
static void itt_acquired(void* addr) {
  tsan_acquire(addr);
}
static void itt_releasing(void* addr) {
  tsan_release(addr);
}
/* "prepare" (about to wait), "cancel" (gave up waiting) and "destroy" carry no ordering. */
static void itt_ignored(void* addr) {
  (void)addr;
}

/* Called by libtbb, with its ITT mutex held, when it has loaded us as its collector (it may call
   again; the result is the same). Its list names some sync calls twice (the current entry points
   and legacy ones with the same signature); every entry of a name gets the same function. */
void __itt_api_init(itt_global* global, int init_groups) {
  (void)init_groups;
  if (!global || memcmp(global->magic, itt_magic, sizeof itt_magic) != 0) {
    fprintf(stderr,
            "tbb_tsan_bridge: __itt_api_init called with an unknown descriptor; "
            "its synchronisation stays invisible to TSan\n");
    return;
  }
  int routed = 0;
  for (itt_api_entry* e = global->api_list; e && e->name; ++e) {
    void* fn = e->null_func;
    if (strcmp(e->name, "__itt_sync_acquired") == 0) {
      fn = (void*)itt_acquired;
      ++routed;
    } else if (strcmp(e->name, "__itt_sync_releasing") == 0) {
      fn = (void*)itt_releasing;
      ++routed;
    } else if (strcmp(e->name, "__itt_sync_prepare") == 0 ||
               strcmp(e->name, "__itt_sync_cancel") == 0 ||
               strcmp(e->name, "__itt_sync_destroy") == 0) {
      fn = (void*)itt_ignored;
    }
    *e->func_ptr = fn;
  }
  if (routed == 0)
    fprintf(stderr, "tbb_tsan_bridge: no sync_acquired/sync_releasing in libtbb's ITT table\n");
}

/* ---------------------------------------------------------------------------------------------
   Interposition. Each function below has the exact (mangled) name of a libtbb export, so with
   LD_PRELOAD the program's calls reach it first; it calls on to libtbb's definition, the next one
   after ours, looked up by its own name (__func__) once. Several threads may look it up at the
   same time; they all get the same pointer, and the atomics keep that well defined. libtbb may
   throw through these frames (a task's exception leaves through r1::wait): the library is built
   with -fexceptions, and nothing here needs cleaning up on the way. */

static void* next_symbol(void* volatile* cache, const char* mangled) {
  void* fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = dlsym(RTLD_NEXT, mangled);
    if (!fn) {
      fprintf(stderr, "tbb_tsan_bridge: %s not found after the bridge (is libtbb loaded?)\n",
              mangled);
      abort();
    }
    __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

/* libtbb's definition of the function this is used in, as a pointer of type `type`. */
#define NEXT(type)                         \
  ({                                       \
    static void* volatile cached;          \
    (type) next_symbol(&cached, __func__); \
  })

/* ---------------------------------------------------------------------------------------------
   2. Small-object pool: tbb::detail::r1::allocate / deallocate. The pool and execution_data
   arguments are passed through untouched. */

/* void* allocate(d1::small_object_pool*& pool, std::size_t size) */
void* _ZN3tbb6detail2r18allocateERPNS0_2d117small_object_poolEm(void** pool, size_t size) {
  void* block = NEXT(void* (*)(void**, size_t))(pool, size);
  tsan_acquire(block);
  return block;
}

/* void* allocate(d1::small_object_pool*& pool, std::size_t size, const d1::execution_data& ed) */
void* _ZN3tbb6detail2r18allocateERPNS0_2d117small_object_poolEmRKNS2_14execution_dataE(
    void** pool, size_t size, const void* ed) {
  void* block = NEXT(void* (*)(void**, size_t, const void*))(pool, size, ed);
  tsan_acquire(block);
  return block;
}

/* void deallocate(d1::small_object_pool& pool, void* ptr, std::size_t size) */
void _ZN3tbb6detail2r110deallocateERNS0_2d117small_object_poolEPvm(void* pool, void* block,
                                                                   size_t size) {
  tsan_release(block);
  NEXT(void (*)(void*, void*, size_t))(pool, block, size);
}

/* void deallocate(d1::small_object_pool& pool, void* ptr, std::size_t size,
                   const d1::execution_data& ed) */
void _ZN3tbb6detail2r110deallocateERNS0_2d117small_object_poolEPvmRKNS2_14execution_dataE(
    void* pool, void* block, size_t size, const void* ed) {
  tsan_release(block);
  NEXT(void (*)(void*, void*, size_t, const void*))(pool, block, size, ed);
}

/* ---------------------------------------------------------------------------------------------
   3. End of a wait: tbb::detail::r1::wait / execute_and_wait.
   d1::wait_context is { std::uint64_t m_version_and_traits; std::atomic<std::uint64_t>
   m_ref_count; } (oneTBB's _task.h; libtbb reads m_ref_count, so the offset is part of the ABI). */

typedef struct {
  uint64_t version_and_traits;
  uint64_t ref_count; /* std::atomic<std::uint64_t>: same size and alignment */
} wait_context_layout;

/* void wait(d1::wait_context& wait_ctx, d1::task_group_context& ctx) */
void _ZN3tbb6detail2r14waitERNS0_2d112wait_contextERNS2_18task_group_contextE(
    wait_context_layout* wait_ctx, void* ctx) {
  NEXT(void (*)(wait_context_layout*, void*))(wait_ctx, ctx);
  tsan_acquire(&wait_ctx->ref_count);
}

/* void execute_and_wait(d1::task& t, d1::task_group_context& t_ctx, d1::wait_context& wait_ctx,
                         d1::task_group_context& w_ctx) */
void _ZN3tbb6detail2r116execute_and_waitERNS0_2d14taskERNS2_18task_group_contextERNS2_12wait_contextES6_(
    void* task, void* task_ctx, wait_context_layout* wait_ctx, void* wait_group_ctx) {
  NEXT(void (*)(void*, void*, wait_context_layout*, void*))
  (task, task_ctx, wait_ctx, wait_group_ctx);
  tsan_acquire(&wait_ctx->ref_count);
}
