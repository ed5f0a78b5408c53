#version 330 core
#include "common.glsl"
// Two images in one frame (the data-free generator pair): input0 left, input1 right.
uniform float u_gap;           // fraction of the width between the two, black
void main() {
    vec2 uv = frag_uv();
    float half_w = (1.0 - u_gap) * 0.5;
    if (uv.x < half_w) {
        f_colour = vec4(texture(u_input0, vec2(uv.x / half_w, uv.y)).rgb, 1.0);
    } else if (uv.x >= 1.0 - half_w) {
        f_colour = vec4(texture(u_input1, vec2((uv.x - (1.0 - half_w)) / half_w, uv.y)).rgb, 1.0);
    } else {
        f_colour = vec4(0.0, 0.0, 0.0, 1.0);
    }
}
