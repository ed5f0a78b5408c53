// Edge-adaptive upscaling after AMD FidelityFX FSR 1 (EASU + RCAS), written from its published description.
// Included by display.frag for its two FSR variants:
//   FSR_PREP, at the source size (a 64 px image: 4096 texels, nearly free): RCAS sharpening of the texels.
//   FSR, at the output size: EASU. From the 12 texels around the pixel it finds the edge's direction and
//     strength (the '+' gradients of the four nearest texels, bilinear-weighted), then filters the 12 with a
//     Lanczos-2-like kernel narrowed across the edge and stretched along it, clamped to the four nearest
//     texels (deringing).
// Why sharpening comes first and at the source size: FSR sharpens at the output size, for 1.3-2x. Here
// one texel becomes 8-17 pixels; a 1-pixel sharpening cross would find its neighbours nearly equal and do
// little, and a second output-sized pass is most of a frame on llvmpipe. Sharpening the texels themselves
// acts at the scale the detail is, for no output-sized cost. The sharpened value stays within its
// cross's range: at this scale an overshoot would be a halo 8-17 pixels wide.
// Measured on llvmpipe and left out: the edge analysis precomputed per texel into a half-float target
// (one bilinear fetch instead of 12 lumas and four gradients: 1-2 ms slower at 720p), and a bilinear
// shortcut for flat footprints (llvmpipe runs both sides of a branch under a mask: 1-2 ms slower, even
// on a flat image).

// FSR's luma approximation (0..2): cheap, and green-weighted like the eye
float fsr_luma(vec3 c) { return 0.5 * c.r + c.g + 0.5 * c.b; }

#ifdef FSR_PREP
uniform float u_sharpness;  // 0: none .. 1: FSR's strongest (0 stops)

const float RCAS_LIMIT = 0.25 - 1.0 / 16.0;

vec3 fsr_tap(ivec2 p, ivec2 size) { return texelFetch(u_input0, clamp(p, ivec2(0), size - 1), 0).rgb; }

void fsr_prep() {
    ivec2 size = textureSize(u_input0, 0);
    ivec2 p = ivec2(gl_FragCoord.xy);
    //     b
    //   e f g   RCAS's cross around f
    //     j
    vec3 b = fsr_tap(p + ivec2(0, -1), size), e = fsr_tap(p + ivec2(-1, 0), size), f = fsr_tap(p, size);
    vec3 g = fsr_tap(p + ivec2(1, 0), size), j = fsr_tap(p + ivec2(0, 1), size);

    // the strongest negative lobe that keeps every channel in [0, 1], scaled by the sharpness, damped
    // where f looks like noise (it stands out of its cross), then kept within the cross's range
    vec3 mn4 = min(min(b, e), min(g, j));
    vec3 mx4 = max(max(b, e), max(g, j));
    vec3 hit_min = min(mn4, f) / max(4.0 * mx4, 1.0e-6);
    vec3 hit_max = (1.0 - max(mx4, f)) / min(4.0 * mn4 - 4.0, -1.0e-6);
    vec3 lobe3 = max(-hit_min, hit_max);
    float lobe = max(-RCAS_LIMIT, min(max(lobe3.r, max(lobe3.g, lobe3.b)), 0.0)) * u_sharpness;
    float lb = fsr_luma(b), le = fsr_luma(e), lf = fsr_luma(f), lg = fsr_luma(g), lj = fsr_luma(j);
    float lmin = min(min(min(lb, le), min(lg, lj)), lf);
    float lmax = max(max(max(lb, le), max(lg, lj)), lf);
    float nz = clamp(abs(0.25 * (lb + le + lg + lj) - lf) / max(lmax - lmin, 1.0e-6), 0.0, 1.0);
    lobe *= 1.0 - 0.5 * nz;
    vec3 sharp = (lobe * (b + e + g + j) + f) / (4.0 * lobe + 1.0);
    f_colour = vec4(clamp(sharp, min(mn4, f), max(mx4, f)), 1.0);
}
#endif

#ifdef FSR
// One texel's share of the edge analysis, from the lumas of its '+' (a above, b c d across, e below):
// the gradient, and per axis a length that is 0 where the gradient reverses (a thin line, noise: no
// direction to follow) and 1 on a steady ramp or step, squared.
vec3 easu_analysis(float a, float b, float c, float d, float e) {
    float dx = d - b;
    float lx = clamp(abs(dx) / max(max(abs(d - c), abs(c - b)), 1.0e-6), 0.0, 1.0);
    float dy = e - a;
    float ly = clamp(abs(dy) / max(max(abs(e - c), abs(c - a)), 1.0e-6), 0.0, 1.0);
    return vec3(dx, dy, lx * lx + ly * ly);
}

void easu_tap(inout vec3 acc, inout float wsum, vec2 off, vec2 dir, vec2 len2, float lob, float clp, vec3 c) {
    vec2 v = vec2(dot(off, dir), dot(off, vec2(-dir.y, dir.x))) * len2;  // across, along the edge
    float d2 = min(dot(v, v), clp);  // the window's end: corner taps fall outside it
    // Lanczos-2 approximated by polynomials in x^2 (no sin, no sqrt): base * window, where the base's
    // negative lobe lies between x = 1 and 2 and the window ends at sqrt(clp)
    float base = 0.4 * d2 - 1.0;
    float window = lob * d2 - 1.0;
    float w = (25.0 / 16.0 * base * base - (25.0 / 16.0 - 1.0)) * window * window;
    acc += c * w;
    wsum += w;
}

// u_input0: the (sharpened) image at the source size; uv: where this pixel falls in it.
vec3 easu(vec2 uv) {
    ivec2 size = textureSize(u_input0, 0);
    vec2 pos = uv * vec2(size) - 0.5;
    vec2 fp = floor(pos);
    vec2 pp = pos - fp;  // position within the quad f g / j k
    ivec2 ip = ivec2(fp);
    ivec2 top = size - 1;
    //     b c
    //   e f g h
    //   i j k l
    //     n o
    vec3 b = texelFetch(u_input0, clamp(ip + ivec2(0, -1), ivec2(0), top), 0).rgb;
    vec3 c = texelFetch(u_input0, clamp(ip + ivec2(1, -1), ivec2(0), top), 0).rgb;
    vec3 e = texelFetch(u_input0, clamp(ip + ivec2(-1, 0), ivec2(0), top), 0).rgb;
    vec3 f = texelFetch(u_input0, clamp(ip, ivec2(0), top), 0).rgb;
    vec3 g = texelFetch(u_input0, clamp(ip + ivec2(1, 0), ivec2(0), top), 0).rgb;
    vec3 h = texelFetch(u_input0, clamp(ip + ivec2(2, 0), ivec2(0), top), 0).rgb;
    vec3 i = texelFetch(u_input0, clamp(ip + ivec2(-1, 1), ivec2(0), top), 0).rgb;
    vec3 j = texelFetch(u_input0, clamp(ip + ivec2(0, 1), ivec2(0), top), 0).rgb;
    vec3 k = texelFetch(u_input0, clamp(ip + ivec2(1, 1), ivec2(0), top), 0).rgb;
    vec3 l = texelFetch(u_input0, clamp(ip + ivec2(2, 1), ivec2(0), top), 0).rgb;
    vec3 n = texelFetch(u_input0, clamp(ip + ivec2(0, 2), ivec2(0), top), 0).rgb;
    vec3 o = texelFetch(u_input0, clamp(ip + ivec2(1, 2), ivec2(0), top), 0).rgb;

    float lb = fsr_luma(b), lc = fsr_luma(c), le = fsr_luma(e), lf = fsr_luma(f), lg = fsr_luma(g), lh = fsr_luma(h);
    float li = fsr_luma(i), lj = fsr_luma(j), lk = fsr_luma(k), ll = fsr_luma(l), ln = fsr_luma(n), lo = fsr_luma(o);
    vec3 a = easu_analysis(lb, le, lf, lg, lj) * (1.0 - pp.x) * (1.0 - pp.y);
    a += easu_analysis(lc, lf, lg, lh, lk) * pp.x * (1.0 - pp.y);
    a += easu_analysis(lf, li, lj, lk, ln) * (1.0 - pp.x) * pp.y;
    a += easu_analysis(lg, lj, lk, ll, lo) * pp.x * pp.y;
    vec2 dir = a.xy;  // across the edge
    float dir2 = dot(dir, dir);
    dir = dir2 < 1.0 / 32768.0 ? vec2(1.0, 0.0) : dir * inversesqrt(dir2);
    float len = 0.5 * a.z;
    len *= len;
    float stretch = 1.0 / max(abs(dir.x), abs(dir.y));  // 1 on an axis, sqrt(2) on a diagonal
    // across the edge the kernel narrows (to 1/stretch); along it, it grows to twice its length
    vec2 len2 = vec2(1.0 + (stretch - 1.0) * len, 1.0 - 0.5 * len);
    // on an edge the window widens from sqrt(2) to just beyond 2, letting in the negative lobe
    float lob = 0.5 + (0.25 - 0.04 - 0.5) * len;
    float clp = 1.0 / lob;

    vec3 acc = vec3(0.0);
    float wsum = 0.0;
    easu_tap(acc, wsum, vec2(0.0, -1.0) - pp, dir, len2, lob, clp, b);
    easu_tap(acc, wsum, vec2(1.0, -1.0) - pp, dir, len2, lob, clp, c);
    easu_tap(acc, wsum, vec2(-1.0, 0.0) - pp, dir, len2, lob, clp, e);
    easu_tap(acc, wsum, vec2(0.0, 0.0) - pp, dir, len2, lob, clp, f);
    easu_tap(acc, wsum, vec2(1.0, 0.0) - pp, dir, len2, lob, clp, g);
    easu_tap(acc, wsum, vec2(2.0, 0.0) - pp, dir, len2, lob, clp, h);
    easu_tap(acc, wsum, vec2(-1.0, 1.0) - pp, dir, len2, lob, clp, i);
    easu_tap(acc, wsum, vec2(0.0, 1.0) - pp, dir, len2, lob, clp, j);
    easu_tap(acc, wsum, vec2(1.0, 1.0) - pp, dir, len2, lob, clp, k);
    easu_tap(acc, wsum, vec2(2.0, 1.0) - pp, dir, len2, lob, clp, l);
    easu_tap(acc, wsum, vec2(0.0, 2.0) - pp, dir, len2, lob, clp, n);
    easu_tap(acc, wsum, vec2(1.0, 2.0) - pp, dir, len2, lob, clp, o);
    // deringing: never beyond the four nearest texels
    return clamp(acc / wsum, min(min(f, g), min(j, k)), max(max(f, g), max(j, k)));
}
#endif
