#version 330 core
#include "common.glsl"
void main() {
    f_colour = vec4(texture(u_input0, frag_uv()).rgb, 1.0);
}
