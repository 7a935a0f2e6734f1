#ifndef CATPOOL_SUPPORT_H
#define CATPOOL_SUPPORT_H

#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Asks the CPU to start loading the cache line at `address` for writing, without waiting.
/// The detector's tables are larger than the caches; issuing these a few records ahead
/// overlaps the misses instead of paying them one after another.
static inline __attribute__((always_inline)) void catpool_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// `catpool_match16` without SSE2, a byte at a time: what other processors run, compiled
/// on every one so the tests compare it with the SSE2 path (FieldSplitTests).
static inline __attribute__((always_inline)) uint32_t catpool_match16_portable(
    const void *address, uint8_t byte) {
    const uint8_t *bytes = (const uint8_t *)address;
    uint32_t mask = 0;
    for (int index = 0; index < 16; index++) {
        mask |= (uint32_t)(bytes[index] == byte) << index;
    }
    return mask;
}

/// Bit i set when byte i of the 16 at `address` equals `byte`: the delimiter search of the
/// CSV splitter, one compare and one mask for sixteen bytes (SSE2, in every x86-64).
static inline __attribute__((always_inline)) uint32_t catpool_match16(const void *address,
                                                                      uint8_t byte) {
#if defined(__SSE2__)
    __m128i bytes = _mm_loadu_si128((const __m128i *)address);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8((char)byte)));
#else
    return catpool_match16_portable(address, byte);
#endif
}

/// `catpool_quote_or_space16` a byte at a time: what other processors run, compiled on every
/// one so the tests compare it with the SSE2 path (FieldSplitTests).
static inline __attribute__((always_inline)) uint32_t catpool_quote_or_space16_portable(
    const void *address) {
    const uint8_t *bytes = (const uint8_t *)address;
    uint32_t mask = 0;
    for (int index = 0; index < 16; index++) {
        mask |= (uint32_t)(bytes[index] == 0x22 || bytes[index] == 0x20) << index;
    }
    return mask;
}

/// Bit i set when byte i of the 16 at `address` is a quote or a space: the splitter's one
/// test for both, as a line with either needs a second look and most lines have neither.
/// 0x20 and 0x22 are the only bytes b with (b | 2) == 0x22, so one compare finds both.
static inline __attribute__((always_inline)) uint32_t catpool_quote_or_space16(
    const void *address) {
#if defined(__SSE2__)
    __m128i bytes = _mm_loadu_si128((const __m128i *)address);
    __m128i folded = _mm_or_si128(bytes, _mm_set1_epi8(0x02));
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(folded, _mm_set1_epi8(0x22)));
#else
    return catpool_quote_or_space16_portable(address);
#endif
}

/// `catpool_digits16` a byte at a time: what other processors run, compiled on every one so
/// the tests compare it with the SSE2 path (PackedDigitsTests).
static inline uint64_t catpool_digits16_portable(const void *end, int count) {
    const uint8_t *digits = (const uint8_t *)end - count;
    uint64_t value = 0;
    for (int index = 0; index < count; index++) {
        uint8_t digit = (uint8_t)(digits[index] - '0');
        if (digit > 9) return UINT64_MAX;
        value = value * 10 + digit;
    }
    return value;
}

/// The value of the `count` (1 to 16) ASCII digits that end at `end`, or UINT64_MAX when one
/// of them is not a digit. The 16 bytes before `end` must be readable; those before the
/// digits are ignored. One 16-byte load and three multiply-adds (SSE2, in every x86-64), where
/// two 8-byte words and their tails took about 80 instructions a number: the parser reads
/// four numbers a line.
static inline __attribute__((always_inline)) uint64_t catpool_digits16(const void *end,
                                                                       int count) {
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i positions =
        _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i bytes = _mm_loadu_si128((const __m128i *)((const uint8_t *)end - 16));
    // Byte values 0-9 for digits, 10-255 for anything else; zero before the digits.
    __m128i digits = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    digits = _mm_and_si128(digits, _mm_cmpgt_epi8(positions, _mm_set1_epi8((char)(15 - count))));
    __m128i excess = _mm_subs_epu8(digits, _mm_set1_epi8(9));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(excess, zero)) != 0xFFFF) return UINT64_MAX;
    // Most significant digit first: 16 digits, then 8 pairs (10a + b), 4 quads (100a + b),
    // 2 halves (10000a + b), each step a multiply-add of neighbouring lanes.
    const __m128i tens = _mm_set1_epi32(0x0001000A);
    __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(digits, zero), tens),
                                    _mm_madd_epi16(_mm_unpackhi_epi8(digits, zero), tens));
    __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
    __m128i halves = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x00012710));
    uint64_t high = (uint32_t)_mm_cvtsi128_si32(halves);
    uint64_t low = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(halves, 4));
    return high * 100000000 + low;
#else
    return catpool_digits16_portable(end, count);
#endif
}

/// The low nibbles of 16 cell-token bytes, or an error: what `catpool_pack16` returns.
typedef struct {
    /// Byte i's low nibble in bits 4i to 4i+3.
    uint64_t nibbles;
    /// Bit i set when byte i is a digit or one of `- . / :` (0x2D-0x3A).
    uint32_t valid;
} catpool_nibbles16;

/// `catpool_pack16` a byte at a time: what other processors run, compiled on every one so
/// the tests compare it with the SSE2 path (CellInternerTests).
static inline catpool_nibbles16 catpool_pack16_portable(const void *address) {
    const uint8_t *bytes = (const uint8_t *)address;
    catpool_nibbles16 result = {0, 0};
    for (int index = 0; index < 16; index++) {
        result.nibbles |= (uint64_t)(bytes[index] & 0x0F) << (4 * index);
        result.valid |= (uint32_t)(bytes[index] >= 0x2D && bytes[index] <= 0x3A) << index;
    }
    return result;
}

/// Packs the 16 bytes at `address` four bits a byte, and tells which are cell-token bytes:
/// one load, two compares and five steps (SSE2, in every x86-64), where packing eight
/// bytes a word at a time took about 40 instructions. The cell interner reads every record's
/// cell through it.
static inline __attribute__((always_inline)) catpool_nibbles16 catpool_pack16(
    const void *address) {
#if defined(__SSE2__)
    __m128i bytes = _mm_loadu_si128((const __m128i *)address);
    // Signed compares: bytes of 0x80 and above are negative, so they fail the first.
    __m128i inRange = _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8(0x2C)),
                                    _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x3B)));
    // Each 16-bit lane holds two nibbles a and b (a low): a | b << 4, then one byte a lane.
    __m128i nibbles = _mm_and_si128(bytes, _mm_set1_epi8(0x0F));
    nibbles = _mm_and_si128(_mm_or_si128(nibbles, _mm_srli_epi16(nibbles, 4)),
                            _mm_set1_epi16(0x00FF));
    catpool_nibbles16 result;
    result.nibbles = (uint64_t)_mm_cvtsi128_si64(_mm_packus_epi16(nibbles, nibbles));
    result.valid = (uint32_t)_mm_movemask_epi8(inRange);
    return result;
#else
    return catpool_pack16_portable(address);
#endif
}

/// Linux's batch scheduling policy (<sched.h> names it only under _GNU_SOURCE).
#if defined(SCHED_BATCH)
#define CATPOOL_SCHED_BATCH SCHED_BATCH
#else
#define CATPOOL_SCHED_BATCH 3
#endif

/// Marks the calling thread (Linux) as a CPU-bound batch thread: when it wakes, it waits for
/// the scheduler's next tick instead of preempting the thread running, so busy batch threads
/// sharing cores switch less often. Returns 0, or -1 where the system refuses.
static inline int catpool_schedule_as_batch(void) {
#if defined(__linux__)
    struct sched_param parameters = {0};
    return sched_setscheduler(0, CATPOOL_SCHED_BATCH, &parameters);
#else
    return 0;
#endif
}

/// The calling thread's kernel id (Linux), for per-thread scheduling priority.
static inline pid_t catpool_thread_id(void) {
    return (pid_t)syscall(SYS_gettid);
}

/// Makes blocks of `bytes` or more come from mmap, and go back to the system when freed.
/// glibc raises its threshold to the largest block freed (up to 32 MiB), so without this a
/// table that doubles leaves its old half in the heap, resident. A no-op off glibc.
static inline void catpool_map_blocks_from(int bytes) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, bytes);
#endif
}

#endif
