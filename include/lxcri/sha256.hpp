#pragma once

// SHA-256 (FIPS 180-4), for a backend's digest of a rootfs, the init
// helper's check of an exec process file and the digests of image blobs and
// layers. Self-contained: the static helper links no crypto library. On
// x86-64 CPUs with the SHA extensions (SHA-NI) blocks are hashed by them,
// several times faster than the portable code (image layers are hundreds of
// megabytes). Part of the plugin SDK.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define LXCRI_SHA256_SHANI 1
#endif

namespace lxcri {

class Sha256 {
public:
    void update(const void* data, std::size_t size) {
        auto bytes = static_cast<const unsigned char*>(data);
        length_ += size;
        if (used_ > 0) {
            std::size_t n = std::min(size, block_.size() - used_);
            std::memcpy(block_.data() + used_, bytes, n);
            used_ += n;
            bytes += n;
            size -= n;
            if (used_ < block_.size()) return;
            compress(block_.data(), 1);
            used_ = 0;
        }
        // Whole blocks straight from the caller's buffer.
        if (std::size_t blocks = size / block_.size(); blocks > 0) {
            compress(bytes, blocks);
            bytes += blocks * block_.size();
            size -= blocks * block_.size();
        }
        std::memcpy(block_.data(), bytes, size);
        used_ = size;
    }
    void update(std::string_view text) { update(text.data(), text.size()); }

    std::string hex() {
        std::uint64_t bits = length_ * 8;
        unsigned char pad = 0x80;
        update(&pad, 1);
        unsigned char zero = 0;
        while (used_ != 56) update(&zero, 1);
        unsigned char size[8];
        for (int i = 0; i < 8; ++i) size[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(size, 8);
        std::string out;
        static const char digits[] = "0123456789abcdef";
        for (auto word : h_)
            for (int shift = 28; shift >= 0; shift -= 4) out += digits[(word >> shift) & 0xf];
        return out;
    }

private:
    static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

    static constexpr std::array<std::uint32_t, 64> k = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

    void compress(const unsigned char* data, std::size_t blocks) {
#ifdef LXCRI_SHA256_SHANI
        static const bool shani = cpu_has_shani();
        if (shani) return compress_shani(data, blocks);
#endif
        for (; blocks > 0; --blocks, data += 64) compress_portable(data);
    }

#ifdef LXCRI_SHA256_SHANI
    // From cpuid, not __builtin_cpu_supports("sha"), which clang 14 does not
    // know (the fuzz targets are built with it).
    static bool cpu_has_shani() {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1)) return false;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
    }

    // Intel's SHA extensions: the state as ABEF/CDGH, four rounds per step.
    __attribute__((target("sha,sse4.1"))) void compress_shani(const unsigned char* data, std::size_t blocks) {
        const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h_[0])), 0xB1);
        __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h_[4])), 0x1B);
        __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);  // ABEF
        state1 = _mm_blend_epi16(state1, tmp, 0xF0);       // CDGH
        for (; blocks > 0; --blocks, data += 64) {
            const __m128i abef = state0, cdgh = state1;
            __m128i m[4];
            for (int g = 0; g < 16; ++g) {
                __m128i& w = m[g % 4];  // words 4g..4g+3 of the schedule
                if (g < 4)
                    w = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), byte_swap);
                else
                    w = _mm_sha256msg2_epu32(
                        _mm_add_epi32(_mm_sha256msg1_epu32(w, m[(g + 1) % 4]), _mm_alignr_epi8(m[(g + 3) % 4], m[(g + 2) % 4], 4)),
                        m[(g + 3) % 4]);
                const __m128i msg = _mm_add_epi32(w, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&k[4 * g])));
                state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
                state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(msg, 0x0E));
            }
            state0 = _mm_add_epi32(state0, abef);
            state1 = _mm_add_epi32(state1, cdgh);
        }
        tmp = _mm_shuffle_epi32(state0, 0x1B);     // FEBA
        state1 = _mm_shuffle_epi32(state1, 0xB1);  // DCHG
        _mm_storeu_si128(reinterpret_cast<__m128i*>(&h_[0]), _mm_blend_epi16(tmp, state1, 0xF0));  // DCBA
        _mm_storeu_si128(reinterpret_cast<__m128i*>(&h_[4]), _mm_alignr_epi8(state1, tmp, 8));     // HGFE
    }
#endif

    void compress_portable(const unsigned char* block) {
        std::array<std::uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i)
            w[i] = std::uint32_t(block[4 * i]) << 24 | std::uint32_t(block[4 * i + 1]) << 16 |
                   std::uint32_t(block[4 * i + 2]) << 8 | std::uint32_t(block[4 * i + 3]);
        for (int i = 16; i < 64; ++i) {
            std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        auto [a, b, c, d, e, f, g, h] = h_;
        for (int i = 0; i < 64; ++i) {
            std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        std::array<std::uint32_t, 8> add = {a, b, c, d, e, f, g, h};
        for (int i = 0; i < 8; ++i) h_[i] += add[i];
    }

    std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> block_{};
    std::size_t used_ = 0;
    std::uint64_t length_ = 0;
};

// The hex digest of `text`.
inline std::string sha256_hex(std::string_view text) {
    Sha256 sha;
    sha.update(text);
    return sha.hex();
}

}  // namespace lxcri
