#version 330 core
#include "common.glsl"
// The one pass at output resolution: fits the image into the output (contain/cover/stretch),
// filters it (nearest/linear by sampler; bicubic here) and flips for the screen.
uniform float u_filter;        // 0 nearest, 1 linear, 2 bicubic
uniform vec2 u_scale;          // output uv -> image uv, per axis
uniform vec2 u_offset;
uniform float u_flip_y;        // 1: GL order target (a window), 0: image order (read back top-down)
uniform vec2 u_input_size;     // texels

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
    vec2 off12 = w2 / w12;
    vec2 t0 = (tc1 - 1.0) / size;
    vec2 t3 = (tc1 + 2.0) / size;
    vec2 t12 = (tc1 + off12) / size;
    vec3 c = vec3(0.0);
    c += texture(tex, vec2(t0.x, t0.y)).rgb * w0.x * w0.y;
    c += texture(tex, vec2(t12.x, t0.y)).rgb * w12.x * w0.y;
    c += texture(tex, vec2(t3.x, t0.y)).rgb * w3.x * w0.y;
    c += texture(tex, vec2(t0.x, t12.y)).rgb * w0.x * w12.y;
    c += texture(tex, vec2(t12.x, t12.y)).rgb * w12.x * w12.y;
    c += texture(tex, vec2(t3.x, t12.y)).rgb * w3.x * w12.y;
    c += texture(tex, vec2(t0.x, t3.y)).rgb * w0.x * w3.y;
    c += texture(tex, vec2(t12.x, t3.y)).rgb * w12.x * w3.y;
    c += texture(tex, vec2(t3.x, t3.y)).rgb * w3.x * w3.y;
    return clamp(c, 0.0, 1.0);
}

void main() {
    vec2 uv = frag_uv();
    if (u_flip_y > 0.5) uv.y = 1.0 - uv.y;
    uv = uv * u_scale + u_offset;
    if (any(lessThan(uv, vec2(0.0))) || any(greaterThan(uv, vec2(1.0)))) {
        f_colour = vec4(0.0, 0.0, 0.0, 1.0);  // letterbox
        return;
    }
    vec3 c = u_filter > 1.5 ? bicubic(u_input0, uv, u_input_size) : texture(u_input0, uv).rgb;
    f_colour = vec4(c, 1.0);
}
