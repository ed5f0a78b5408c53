#version 330 core
#include "common.glsl"
uniform float u_exposure;      // stops
uniform float u_contrast;      // around mid grey
uniform float u_saturation;    // 0 grey, 1 unchanged
uniform float u_hue_shift;     // degrees
uniform float u_tint_r;
uniform float u_tint_g;
uniform float u_tint_b;
uniform float u_gamma;
void main() {
    vec3 c = texture(u_input0, frag_uv()).rgb;
    c *= exp2(u_exposure);
    c = (c - 0.5) * u_contrast + 0.5;
    c = clamp(c, 0.0, 1.0);
    if (u_hue_shift != 0.0) {
        vec3 hsv = rgb2hsv(c);
        hsv.x = fract(hsv.x + u_hue_shift / 360.0);
        c = hsv2rgb(hsv);
    }
    c = mix(vec3(luma(c)), c, u_saturation);
    c *= vec3(u_tint_r, u_tint_g, u_tint_b);
    c = pow(clamp(c, 0.0, 1.0), vec3(1.0 / u_gamma));
    f_colour = vec4(c, 1.0);
}
