#version 330 core
#include "common.glsl"
// Trails: the previous output, zoomed and rotated about the centre, blended under the new image.
uniform sampler2D u_prev;
uniform float u_decay;         // how much of the previous frame survives
uniform float u_zoom;          // >1 trails grow outwards
uniform float u_rotate;        // radians per frame
uniform float u_mode;          // 0 mix, 1 max, 2 add
uniform float u_has_history;   // 0 on the first frame after (re)start: the previous frame is the input
void main() {
    vec2 uv = frag_uv();
    vec3 now = texture(u_input0, uv).rgb;
    vec2 p = uv - 0.5;
    p.x *= u_resolution.x / u_resolution.y;
    float c = cos(u_rotate), s = sin(u_rotate);
    p = mat2(c, s, -s, c) * p / u_zoom;
    p.x *= u_resolution.y / u_resolution.x;
    vec3 prev = u_has_history > 0.5 ? texture(u_prev, p + 0.5).rgb : now;
    vec3 outc;
    if (u_mode < 0.5) outc = mix(now, prev, u_decay);
    else if (u_mode < 1.5) outc = max(now, prev * u_decay);
    else outc = min(now + prev * u_decay, vec3(1.0));
    f_colour = vec4(outc, 1.0);
}
