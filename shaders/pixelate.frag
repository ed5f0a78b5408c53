#version 330 core
#include "common.glsl"
uniform float u_size;          // block size in pixels of this pass
void main() {
    vec2 block = floor(gl_FragCoord.xy / u_size) * u_size + 0.5 * u_size;
    f_colour = vec4(texture(u_input0, block / u_resolution).rgb, 1.0);
}
