#version 330 core
#include "common.glsl"
uniform float u_levels;        // colour levels per channel; 0 off
void main() {
    vec3 c = texture(u_input0, frag_uv()).rgb;
    float n = max(u_levels - 1.0, 1.0);
    f_colour = vec4(floor(c * n + 0.5) / n, 1.0);
}
