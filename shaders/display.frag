#version 330 core
#include "common.glsl"
// The one pass at output resolution: draws the image into the viewport the chain fitted it to
// (contain: the letterbox bars are cleared, not shaded), crops for cover, filters, and flips for a window.
// Variants: BICUBIC defined for Catmull-Rom; FSR for edge-adaptive upscaling (fsr.glsl), whose FSR_PREP
// variant runs first at the source size; otherwise the sampler's nearest or linear filter.
// Over another layer (a scene transition) it shades the whole output, black outside the fitted rectangle,
// with alpha u_opacity: the blend puts it over what is there, bars included.
uniform vec2 u_origin;         // viewport origin in pixels
uniform vec2 u_scale;          // viewport uv -> image uv (cover crops: < 1)
uniform vec2 u_offset;
uniform float u_flip_y;        // 1: GL order target (a window), 0: image order (read back top-down)
uniform vec2 u_input_size;     // texels
uniform float u_opacity;       // 1 drawn alone; < 1 blended over the layer below

#if defined(FSR) || defined(FSR_PREP)
#include "fsr.glsl"
#endif

#ifdef BICUBIC
// Catmull-Rom in 9 bilinear taps (the hardware filter does the rest), after TheRealMJP.
vec3 bicubic(sampler2D tex, vec2 uv, vec2 size) {
    vec2 pos = uv * size;
    vec2 tc1 = floor(pos - 0.5) + 0.5;
    vec2 f = pos - tc1;
    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;
    vec2 t0 = (tc1 - 1.0) / size;
    vec2 t3 = (tc1 + 2.0) / size;
    vec2 t12 = (tc1 + w2 / w12) / size;
    vec3 c = (texture(tex, vec2(t0.x, t0.y)).rgb * w0.x + texture(tex, vec2(t12.x, t0.y)).rgb * w12.x
              + texture(tex, vec2(t3.x, t0.y)).rgb * w3.x) * w0.y;
    c += (texture(tex, vec2(t0.x, t12.y)).rgb * w0.x + texture(tex, vec2(t12.x, t12.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t12.y)).rgb * w3.x) * w12.y;
    c += (texture(tex, vec2(t0.x, t3.y)).rgb * w0.x + texture(tex, vec2(t12.x, t3.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t3.y)).rgb * w3.x) * w3.y;
    return clamp(c, 0.0, 1.0);
}
#endif

#ifdef FSR_PREP
void main() { fsr_prep(); }
#else
void main() {
    vec2 uv = (gl_FragCoord.xy - u_origin) / u_resolution;
    float inside = step(0.0, uv.x) * step(uv.x, 1.0) * step(0.0, uv.y) * step(uv.y, 1.0);
    if (u_flip_y > 0.5) uv.y = 1.0 - uv.y;
    uv = uv * u_scale + u_offset;
#if defined(FSR)
    vec3 c = easu(uv);
#elif defined(BICUBIC)
    vec3 c = bicubic(u_input0, uv, u_input_size);
#else
    vec3 c = texture(u_input0, uv).rgb;
#endif
    f_colour = vec4(c * inside, u_opacity);
}
#endif
