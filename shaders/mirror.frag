#version 330 core
#include "common.glsl"
uniform float u_axis;          // 0 off, 1 left<-right, 2 top<-bottom, 3 both
void main() {
    vec2 uv = frag_uv();
    if (u_axis == 1.0 || u_axis == 3.0) uv.x = uv.x < 0.5 ? 1.0 - uv.x : uv.x;
    if (u_axis == 2.0 || u_axis == 3.0) uv.y = uv.y < 0.5 ? 1.0 - uv.y : uv.y;
    f_colour = vec4(texture(u_input0, uv).rgb, 1.0);
}
