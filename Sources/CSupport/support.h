#ifndef CATPOOL_SUPPORT_H
#define CATPOOL_SUPPORT_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/// Asks the CPU to start loading the cache line at `address` for writing, without waiting.
/// The detector's tables are larger than the caches; issuing these a few records ahead
/// overlaps the misses instead of paying them one after another.
static inline __attribute__((always_inline)) void catpool_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// The calling thread's kernel id (Linux), for per-thread scheduling priority.
static inline pid_t catpool_thread_id(void) {
    return (pid_t)syscall(SYS_gettid);
}

#endif
