#version 330 core
#include "common.glsl"
uniform float u_amount;        // pixels red and blue move apart
uniform float u_angle;         // degrees
void main() {
    vec2 uv = frag_uv();
    float a = radians(u_angle);
    vec2 d = vec2(cos(a), sin(a)) * u_amount / u_resolution;
    float r = texture(u_input0, uv + d).r;
    float g = texture(u_input0, uv).g;
    float b = texture(u_input0, uv - d).b;
    f_colour = vec4(r, g, b, 1.0);
}
