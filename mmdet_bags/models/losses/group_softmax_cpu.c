/*
 * The fused group softmax of mmdet-bags on the CPU: one C pass per row for
 * the cross-entropy, its gradient, the BAGS scores and the "others"
 * sampling. Compiled on first use by cpu_kernel.py (plain C, no torch
 * headers) and called through ctypes; group_softmax.py keeps the tensor
 * implementation for other devices and dtypes, and the tests hold the two
 * to float32 rounding of each other.
 *
 * Layout: row-major float32 logits (N, W); group g owns the contiguous
 * columns [starts[g], starts[g + 1]). Every exponent is taken relative to
 * its own group's maximum, so a group far below the rest of the row stays
 * exact. A group whose maximum is not finite (a NaN, +inf, or all -inf)
 * gives NaN for all of its outputs, as the tensor implementation does.
 *
 * Two builds of the same arithmetic: where the compiler targets AVX-512
 * (-march=native on such a CPU) the row passes are written with its
 * intrinsics (the exponential's 2^n by one "scalef", masked tails, the
 * scores' reordering as one gather and one in-register lookup of the group
 * scale per 16 labels); elsewhere, or with -DBAGS_PORTABLE, plain loops
 * that compilers vectorise. Both use the same polynomial, the same
 * flush-to-0 below -87.3 and sums in double over float partial sums, and
 * the tests hold them to float32 rounding of each other.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__) && !defined(BAGS_PORTABLE)
#define BAGS_AVX512 1
#include <immintrin.h>
#else
#define BAGS_AVX512 0
#endif

/* 1 if this build uses the AVX-512 passes, 0 for the portable loops. */
int bags_kernel_avx512(void) { return BAGS_AVX512; }

/* Rows are split between threads (never a row's sums: the results do not
 * depend on the thread count). Without OpenMP these pragmas, like the
 * "omp simd" ones (which need -fopenmp or -fopenmp-simd), are ignored. */
#define PARALLEL_ROWS \
    _Pragma("omp parallel for schedule(static) num_threads(threads)")

/* Asks for the next row's logits while this row is computed (rows streamed
 * from memory: 8192 RoIs are 40 MB; without it the scores were about 15 %
 * behind softmax there): one prefetch per 64-byte line. The exponential
 * passes issue one per 16-float block inside their loops; a burst of a
 * whole row's prefetches at the start of a row was slower at 1024 RoIs. */
static inline void prefetch_span(const float *ahead, int64_t width) {
#if defined(__GNUC__) || defined(__clang__)
    const char *bytes = (const char *)ahead;
    for (int64_t b = 0; b < width * (int64_t)sizeof(float); b += 64)
        __builtin_prefetch(bytes + b, 0, 3);
#else
    (void)ahead;
    (void)width;
#endif
}

/* Reinterpret the bits of a float as an int32 and back (compilers turn
 * these into register moves, also in vectorised loops). */
static inline int32_t float_bits(float x) {
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static inline float bits_float(int32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* exp(x) for x <= 0 in float32, within 1e-7 relative, in a form compilers
 * vectorise (no branch and no floating-point select, which GCC does not
 * if-convert here): x = n ln2 + r with |r| <= ln2 / 2, a polynomial
 * for exp(r) (ours, below), 2^n from the exponent bits. Below -87.3 (where float32 leaves
 * its normal range), for -inf and for NaN it gives 0: the callers find a
 * group's NaN separately. */
static inline float exp_nonpositive(float x) {
    const float lowest = -87.33654f;
    /* Adding 1.5 * 2^23 rounds to an integer, kept in the low mantissa
     * bits. */
    const float shifter = 12582912.0f;
    int32_t keep = -(int32_t)(x >= lowest); /* all ones, or 0 */
    float xs = bits_float(float_bits(x) & keep);
    float shifted = xs * 1.44269504088896341f + shifter;
    int32_t n = float_bits(shifted) - float_bits(shifter); /* round(x/ln2) */
    float fn = shifted - shifter;
    float r = xs - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    /* exp(r) = 1 + r + r^2 q(r), q of degree 4 fitted for relative error
     * on |r| <= ln2 / 2 (within 7e-8 in float32 arithmetic). */
    float p = 1.375140789596444e-3f;
    p = p * r + 8.36891634137927e-3f;
    p = p * r + 4.166953310922207e-2f;
    p = p * r + 1.6666518459980312e-1f;
    p = p * r + 4.999998859511277e-1f;
    p = p * r * r + r + 1.0f;
    float y = p * bits_float((n + 127) << 23);
    return bits_float(float_bits(y) & keep);
}

#if BAGS_AVX512
/* exp_nonpositive on 16 lanes: round(x / ln2) by roundscale, 2^n by
 * scalef, the same polynomial; 0 below -87.3, for -inf and for NaN (an
 * ordered compare). */
static inline __m512 exp_nonpositive16(__m512 x) {
    __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f),
                                        _CMP_GE_OQ);
    __m512 n = _mm512_roundscale_ps(
        _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.375140789596444e-3f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.36891634137927e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.166953310922207e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666518459980312e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.999998859511277e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r,
                        _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

/* Lanes [0, count) of a 16-lane block. */
static inline __mmask16 first_lanes(int64_t count) {
    return count >= 16 ? (__mmask16)0xffff
                       : (__mmask16)((1u << (unsigned)count) - 1u);
}

/* The maximum; NaN if any logit is NaN. */
static inline float group_max(const float *z, int64_t width) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    for (int64_t j = 0; j < width; j += 16) {
        __mmask16 lanes = first_lanes(width - j);
        __m512 v = _mm512_mask_loadu_ps(m, lanes, z + j);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_max_ps(m, v);
    }
    return nan ? NAN : _mm512_reduce_max_ps(m);
}

/* Float lanes to double, added. */
static inline __m512d widen_add(__m512d sum, __m512 lanes) {
    sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm512_castps512_ps256(lanes)));
    return _mm512_add_pd(sum, _mm512_cvtps_pd(_mm256_castpd_ps(
        _mm512_extractf64x4_pd(_mm512_castps_pd(lanes), 1))));
}

/* The sum of exp(z - m); with out != NULL also out[j] = exp(z[j] - m).
 * 32 float partial sums (two blocks in flight), added up in double.
 * Prefetches ahead[0, width) unless ahead is NULL. */
static inline double sum_exp(const float *z, float *out, int64_t width,
                             float m, const float *ahead) {
    __m512 shift = _mm512_set1_ps(m);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 32 <= width; j += 32) {
        if (ahead != NULL) {
            _mm_prefetch((const char *)(ahead + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(ahead + j + 16), _MM_HINT_T0);
        }
        __m512 e0 = exp_nonpositive16(
            _mm512_sub_ps(_mm512_loadu_ps(z + j), shift));
        __m512 e1 = exp_nonpositive16(
            _mm512_sub_ps(_mm512_loadu_ps(z + j + 16), shift));
        if (out != NULL) {
            _mm512_storeu_ps(out + j, e0);
            _mm512_storeu_ps(out + j + 16, e1);
        }
        a0 = _mm512_add_ps(a0, e0);
        a1 = _mm512_add_ps(a1, e1);
    }
    for (; j < width; j += 16) {
        if (ahead != NULL) _mm_prefetch((const char *)(ahead + j), _MM_HINT_T0);
        __mmask16 lanes = first_lanes(width - j);
        __m512 e = _mm512_maskz_mov_ps(lanes, exp_nonpositive16(_mm512_sub_ps(
            _mm512_maskz_loadu_ps(lanes, z + j), shift)));
        if (out != NULL) _mm512_mask_storeu_ps(out + j, lanes, e);
        a0 = _mm512_add_ps(a0, e);
    }
    return _mm512_reduce_add_pd(widen_add(widen_add(_mm512_setzero_pd(), a0),
                                          a1));
}

/* out[j] = exp(z[j] - m) * factor; prefetches ahead as sum_exp. */
static inline void scaled_exp(const float *z, float *out, int64_t width,
                              float m, float factor, const float *ahead) {
    __m512 shift = _mm512_set1_ps(m), scale = _mm512_set1_ps(factor);
    for (int64_t j = 0; j < width; j += 16) {
        if (ahead != NULL) _mm_prefetch((const char *)(ahead + j), _MM_HINT_T0);
        __mmask16 lanes = first_lanes(width - j);
        __m512 e = exp_nonpositive16(
            _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, z + j), shift));
        _mm512_mask_storeu_ps(out + j, lanes, _mm512_mul_ps(e, scale));
    }
}

/* row[l] = buffer[columns[l]] * scales[groups[l]] for l < count: 16
 * labels per gather, their scales looked up in a register (or gathered
 * when there are more than 16 groups); the buffer is left as it is. */
static inline void gather_scaled(float *buffer, const int32_t *columns,
                                 const int32_t *groups, const float *scales,
                                 int64_t num_groups, const int64_t *starts,
                                 int64_t count, float *row) {
    (void)starts;
    __m512 table = _mm512_loadu_ps(scales); /* scales has >= 16 entries */
    for (int64_t l = 0; l < count; l += 16) {
        __mmask16 lanes = first_lanes(count - l);
        __m512i column = _mm512_maskz_loadu_epi32(lanes, columns + l);
        __m512i group = _mm512_maskz_loadu_epi32(lanes, groups + l);
        __m512 values = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes,
                                                 column, buffer, 4);
        __m512 scale = num_groups <= 16
            ? _mm512_permutexvar_ps(group, table)
            : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, group,
                                       scales, 4);
        _mm512_mask_storeu_ps(row + l, lanes, _mm512_mul_ps(values, scale));
    }
}
#else
/* The maximum; NaN if any logit is NaN. */
static inline float group_max(const float *z, int64_t width) {
    float m = -INFINITY;
    int nan = 0;
    #pragma omp simd reduction(max:m) reduction(|:nan)
    for (int64_t j = 0; j < width; ++j) {
        m = z[j] > m ? z[j] : m;
        nan |= z[j] != z[j];
    }
    return nan ? NAN : m;
}

/* Partial sums: 16 float accumulators (about 26 terms each for LVIS's
 * largest group), added up in double, keep the sum good to about 1e-7.
 * A power of two (sum_exp adds them as a tree). */
#define LANES 16

/* exp(z[i] - m) for i < LANES, added to partial[i]; also written to out
 * unless it is NULL. */
static inline void exp_lanes(const float *z, float *out, float m,
                             float *partial) {
    if (out != NULL) {
        #pragma omp simd
        for (int i = 0; i < LANES; ++i) {
            float e = exp_nonpositive(z[i] - m);
            out[i] = e;
            partial[i] += e;
        }
    } else {
        #pragma omp simd
        for (int i = 0; i < LANES; ++i)
            partial[i] += exp_nonpositive(z[i] - m);
    }
}

/* The sum of exp(z - m); with out != NULL also out[j] = exp(z[j] - m);
 * prefetches ahead[0, width) unless ahead is NULL. The last, partial
 * chunk goes through the same vector code, padded with
 * -inf (whose exponential is 0). */
static inline double sum_exp(const float *z, float *out, int64_t width,
                             float m, const float *ahead) {
    float partial[LANES] = {0.0f};
    int64_t j = 0;
    for (; j + LANES <= width; j += LANES) {
        if (ahead != NULL) prefetch_span(ahead + j, LANES);
        exp_lanes(z + j, out == NULL ? NULL : out + j, m, partial);
    }
    if (j < width) {
        if (ahead != NULL) prefetch_span(ahead + j, width - j);
        float tail[LANES], tail_out[LANES];
        for (int i = 0; i < LANES; ++i) tail[i] = -INFINITY;
        memcpy(tail, z + j, sizeof(float) * (size_t)(width - j));
        exp_lanes(tail, tail_out, m, partial);
        if (out != NULL)
            memcpy(out + j, tail_out, sizeof(float) * (size_t)(width - j));
    }
    /* A tree in double over the lanes (no long chain of dependent adds). */
    double half[LANES / 2];
    for (int i = 0; i < LANES / 2; ++i)
        half[i] = (double)partial[i] + (double)partial[i + LANES / 2];
    for (int width_left = LANES / 4; width_left >= 1; width_left /= 2)
        for (int i = 0; i < width_left; ++i) half[i] += half[i + width_left];
    return half[0];
}

/* out[j] = exp(z[j] - m) * factor; prefetches ahead as sum_exp. */
static inline void scaled_exp(const float *z, float *out, int64_t width,
                              float m, float factor, const float *ahead) {
    for (int64_t j0 = 0; j0 < width; j0 += LANES) {
        int64_t j1 = j0 + LANES < width ? j0 + LANES : width;
        if (ahead != NULL) prefetch_span(ahead + j0, j1 - j0);
        #pragma omp simd
        for (int64_t j = j0; j < j1; ++j)
            out[j] = exp_nonpositive(z[j] - m) * factor;
    }
}

/* row[l] = buffer[columns[l]] * scales[groups[l]] for l < count, the
 * buffer scaled in place per group first (one contiguous pass per group,
 * then a plain gather: faster than two gathers per label in plain C). */
static inline void gather_scaled(float *buffer, const int32_t *columns,
                                 const int32_t *groups, const float *scales,
                                 int64_t num_groups, const int64_t *starts,
                                 int64_t count, float *row) {
    (void)groups;
    for (int64_t g = 0; g < num_groups; ++g) {
        float scale = scales[g];
        #pragma omp simd
        for (int64_t j = starts[g]; j < starts[g + 1]; ++j) buffer[j] *= scale;
    }
    for (int64_t l = 0; l < count; ++l)
        row[l] = buffer[columns[l]];
}
#endif

/* ce[n, g] = -log softmax(z[n, group g])[targets[n, g]]; also the group's
 * maximum and the reciprocal of its sum of exp(z - max), for backward.
 * Returns -1, or (computing nothing) the first n * G + g whose target is
 * not a column of group g. */
int64_t bags_group_ce_forward(const float *logits, int64_t num_rows,
                           int64_t width, const int64_t *starts,
                           int64_t groups, const int64_t *targets, float *ce,
                           float *maxima, float *inverse_sums, int threads) {
    (void)threads;
    for (int64_t n = 0; n < num_rows; ++n)
        for (int64_t g = 0; g < groups; ++g) {
            int64_t target = targets[n * groups + g];
            if (target < starts[g] || target >= starts[g + 1])
                return n * groups + g;
        }
    PARALLEL_ROWS
    for (int64_t n = 0; n < num_rows; ++n) {
        const float *z = logits + n * width;
        const float *ahead = n + 1 < num_rows ? z + width : NULL;
        for (int64_t g = 0; g < groups; ++g) {
            int64_t start = starts[g], end = starts[g + 1];
            int64_t k = n * groups + g;
            float m = group_max(z + start, end - start);
            if (!isfinite(m)) {
                ce[k] = maxima[k] = inverse_sums[k] = NAN;
                continue;
            }
            double s = sum_exp(z + start, NULL, end - start, m,
                               ahead == NULL ? NULL : ahead + start);
            maxima[k] = m;
            inverse_sums[k] = (float)(1.0 / s);
            /* (max - z_t) + log S: the large terms cancel first. */
            ce[k] = (m - z[targets[k]]) + (float)log(s);
        }
    }
    return -1;
}

/* grad[n, j] = softmax_g(z)[j] * grad_ce[n, g] - [j == t_g] grad_ce[n, g]
 * for j in group g. */
void bags_group_ce_backward(const float *logits, int64_t num_rows,
                            int64_t width, const int64_t *starts,
                            int64_t groups, const int64_t *targets,
                            const float *maxima, const float *inverse_sums,
                            const float *grad_ce, float *grad, int threads) {
    (void)threads;
    PARALLEL_ROWS
    for (int64_t n = 0; n < num_rows; ++n) {
        const float *z = logits + n * width;
        float *out = grad + n * width;
        const float *ahead = n + 1 < num_rows ? z + width : NULL;
        for (int64_t g = 0; g < groups; ++g) {
            int64_t start = starts[g], end = starts[g + 1];
            int64_t k = n * groups + g;
            float m = maxima[k];
            float factor = grad_ce[k] * inverse_sums[k];
            if (isnan(m)) {
                for (int64_t j = start; j < end; ++j) out[j] = NAN;
                continue;
            }
            scaled_exp(z + start, out + start, end - start, m, factor,
                       ahead == NULL ? NULL : ahead + start);
            out[targets[k]] -= grad_ce[k];
        }
    }
}

/* BAGS scores in label order: p0[fg] * p_g[j] for a column j of group
 * g >= 1, p0[j] for group 0's columns; out[n, l] takes column
 * label_columns[l] of group label_groups[l]. Per row: each group's maximum
 * and exp(z - max) into a row buffer with its sum, then one pass in label
 * order that gathers the buffer and multiplies by the group's scale
 * (1 / S_0 for group 0, p0[fg] / S_g for the others; the portable build
 * scales the buffer per group before a plain gather). Returns 0, or -1 if
 * a buffer could not be allocated. */
int bags_group_scores(const float *logits, int64_t num_rows, int64_t width,
                      const int64_t *starts, int64_t groups,
                      int64_t foreground_column,
                      const int32_t *label_columns,
                      const int32_t *label_groups, int64_t num_labels,
                      float *out, int threads) {
    int failed = 0;
    (void)threads;
    /* At least 16 scales: the AVX-512 pass loads them as one register. */
    size_t num_scales = (size_t)(groups > 16 ? groups : 16);
    #pragma omp parallel num_threads(threads) reduction(|:failed)
    {
        float *buffer = (float *)calloc((size_t)width + 1, sizeof(float));
        float *scales = (float *)calloc(num_scales, sizeof(float));
        failed = buffer == NULL || scales == NULL;
        #pragma omp for schedule(static)
        for (int64_t n = 0; n < num_rows; ++n) {
            const float *z = logits + n * width;
            if (failed) continue;
            const float *ahead = n + 1 < num_rows ? z + width : NULL;
            float foreground = NAN;
            for (int64_t g = 0; g < groups; ++g) {
                int64_t start = starts[g], end = starts[g + 1];
                float m = group_max(z + start, end - start);
                float scale = NAN;
                if (isfinite(m)) {
                    scale = (float)(1.0 / sum_exp(
                        z + start, buffer + start, end - start, m,
                        ahead == NULL ? NULL : ahead + start));
                    if (g == 0)
                        foreground = buffer[foreground_column] * scale;
                    else
                        scale *= foreground;
                }
                scales[g] = scale;
            }
            gather_scaled(buffer, label_columns, label_groups, scales, groups,
                          starts, num_labels, out + n * num_labels);
        }
        free(buffer);
        free(scales);
    }
    return failed ? -1 : 0;
}

/* The k-th smallest of a[0..n) (k from 0), reordering a (quickselect). */
static float kth_smallest(float *a, int64_t n, int64_t k) {
    int64_t low = 0, high = n - 1;
    while (low < high) {
        float pivot = a[low + (high - low) / 2];
        int64_t i = low, j = high;
        while (i <= j) {
            while (a[i] < pivot) ++i;
            while (a[j] > pivot) --j;
            if (i <= j) {
                float swap = a[i];
                a[i++] = a[j];
                a[j--] = swap;
            }
        }
        if (k <= j) high = j;
        else if (k >= i) low = i;
        else return a[k];
    }
    return a[k];
}

/* Which RoIs each group's loss uses (BAGS "others" sampling), written as
 * 0/1 into selected (N, G): group 0 uses every valid RoI; group g >= 1 its
 * positives P_g (valid RoIs of a label in group g) and, of its "others"
 * (valid RoIs not in g), those whose key is among the floor(ratio |P_g|)
 * smallest (ties: the first rows), all of them if ratio < 0; nothing
 * without positives. keys (N, G) are uniform draws (may be NULL only with
 * ratio < 0). Returns -1 on success, the first row whose label is outside
 * [0, max_label] (nothing selected), -2 if a buffer could not be
 * allocated, -3 if keys are needed but NULL. */
int64_t bags_select_rois(const int64_t *labels, const uint8_t *valid,
                         int64_t num_rows, const int64_t *group_of_label,
                         int64_t max_label, int64_t groups, double ratio,
                         const float *keys, uint8_t *selected) {
    for (int64_t n = 0; n < num_rows; ++n)
        if (labels[n] < 0 || labels[n] > max_label) return n;
    memset(selected, 0, (size_t)(num_rows * groups));
    float *candidates = (float *)malloc(sizeof(float) * (size_t)(num_rows + 1));
    if (candidates == NULL) return -2;
    for (int64_t n = 0; n < num_rows; ++n)
        selected[n * groups] = valid == NULL || valid[n];
    for (int64_t g = 1; g < groups; ++g) {
        int64_t positives = 0, others = 0;
        for (int64_t n = 0; n < num_rows; ++n) {
            if (valid != NULL && !valid[n]) continue;
            if (group_of_label[labels[n]] == g) {
                selected[n * groups + g] = 1;
                ++positives;
            } else {
                if (keys != NULL) candidates[others] = keys[n * groups + g];
                ++others;
            }
        }
        if (positives == 0 || others == 0) continue;
        /* floor(ratio * |P|) in double, as the tensor implementation. */
        double quota = ratio < 0 ? (double)others : floor(ratio * (double)positives);
        int64_t keep = quota >= (double)others ? others : (int64_t)quota;
        if (keep == 0) continue;
        float threshold = INFINITY;
        int64_t below = 0;
        if (keep < others) {
            if (keys == NULL) { free(candidates); return -3; }
            threshold = kth_smallest(candidates, others, keep - 1);
            for (int64_t i = 0; i < others; ++i)
                below += candidates[i] < threshold;
        }
        int64_t ties = keep - below; /* keys equal to the threshold kept */
        for (int64_t n = 0; n < num_rows; ++n) {
            if ((valid != NULL && !valid[n]) ||
                group_of_label[labels[n]] == g)
                continue;
            if (keep == others || keys[n * groups + g] < threshold) {
                selected[n * groups + g] = 1;
            } else if (keys[n * groups + g] == threshold && ties > 0) {
                selected[n * groups + g] = 1;
                --ties;
            }
        }
    }
    free(candidates);
    return -1;
}
