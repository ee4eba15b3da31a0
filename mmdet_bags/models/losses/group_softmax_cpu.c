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
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rows are split between threads (never a row's sums: the results do not
 * depend on the thread count). Without OpenMP these pragmas, like the
 * "omp simd" ones (which need -fopenmp or -fopenmp-simd), are ignored. */
#define PARALLEL_ROWS \
    _Pragma("omp parallel for schedule(static) num_threads(threads)")

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

/* The sum of exp(z - m); with out != NULL also out[j] = exp(z[j] - m).
 * The last, partial chunk goes through the same vector code, padded with
 * -inf (whose exponential is 0). */
static inline double sum_exp(const float *z, float *out, int64_t width,
                             float m) {
    float partial[LANES] = {0.0f};
    int64_t j = 0;
    for (; j + LANES <= width; j += LANES)
        exp_lanes(z + j, out == NULL ? NULL : out + j, m, partial);
    if (j < width) {
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
        for (int64_t g = 0; g < groups; ++g) {
            int64_t start = starts[g], end = starts[g + 1];
            int64_t k = n * groups + g;
            float m = group_max(z + start, end - start);
            if (!isfinite(m)) {
                ce[k] = maxima[k] = inverse_sums[k] = NAN;
                continue;
            }
            double s = sum_exp(z + start, NULL, end - start, m);
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
        for (int64_t g = 0; g < groups; ++g) {
            int64_t start = starts[g], end = starts[g + 1];
            int64_t k = n * groups + g;
            float m = maxima[k];
            float factor = grad_ce[k] * inverse_sums[k];
            if (isnan(m)) {
                for (int64_t j = start; j < end; ++j) out[j] = NAN;
                continue;
            }
            #pragma omp simd
            for (int64_t j = start; j < end; ++j)
                out[j] = exp_nonpositive(z[j] - m) * factor;
            out[targets[k]] -= grad_ce[k];
        }
    }
}

/* BAGS scores in label order: p0[fg] * p_g[j] for a column j of group
 * g >= 1, p0[j] for group 0's columns; out[n, l] takes column
 * label_columns[l]. Returns 0, or -1 if a buffer could not be allocated. */
int bags_group_scores(const float *logits, int64_t num_rows, int64_t width,
                       const int64_t *starts, int64_t groups,
                       int64_t foreground_column,
                       const int64_t *label_columns, int64_t num_labels,
                       float *out, int threads) {
    int failed = 0;
    (void)threads;
    #pragma omp parallel num_threads(threads) reduction(|:failed)
    {
        /* One row of exp(z - group max) per thread, scaled in place. */
        float *buffer = (float *)malloc(sizeof(float) * (size_t)(width + 1));
        failed = buffer == NULL;
        if (buffer != NULL) memset(buffer, 0, sizeof(float) * (size_t)width);
        #pragma omp for schedule(static)
        for (int64_t n = 0; n < num_rows; ++n) {
            const float *z = logits + n * width;
            float *row = out + n * num_labels;
            if (buffer == NULL) continue;
            float foreground = NAN;
            for (int64_t g = 0; g < groups; ++g) {
                int64_t start = starts[g], end = starts[g + 1];
                float m = group_max(z + start, end - start);
                float scale = NAN;
                if (isfinite(m)) {
                    scale = (float)(1.0 / sum_exp(z + start, buffer + start,
                                                  end - start, m));
                    if (g == 0)
                        foreground = buffer[foreground_column] * scale;
                    else
                        scale *= foreground;
                }
                #pragma omp simd
                for (int64_t j = start; j < end; ++j) buffer[j] *= scale;
            }
            for (int64_t l = 0; l < num_labels; ++l)
                row[l] = buffer[label_columns[l]];
        }
        free(buffer);
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
