#version 330 core
#include "common.glsl"
// A horizontal ripple that travels upwards.
uniform float u_amplitude;     // fraction of the width
uniform float u_frequency;     // waves per image height
uniform float u_speed;         // cycles per second
void main() {
    vec2 uv = frag_uv();
    uv.x += u_amplitude * sin(2.0 * PI * (uv.y * u_frequency + u_speed * u_time));
    f_colour = vec4(texture(u_input0, uv).rgb, 1.0);
}
