#version 330 core
#include "common.glsl"
uniform float u_segments;      // wedges around the centre; 0 off
uniform float u_angle;         // degrees, rotates the wedge pattern
uniform float u_spin;          // degrees per second
void main() {
    vec2 p = frag_uv() - 0.5;
    float aspect = u_resolution.x / u_resolution.y;
    p.x *= aspect;
    float r = length(p);
    float a = atan(p.y, p.x) + radians(u_angle + u_spin * u_time);
    float wedge = 2.0 * PI / max(u_segments, 1.0);
    a = mod(a, wedge);
    a = min(a, wedge - a);     // reflect every other half-wedge so edges meet seamlessly
    vec2 q = r * vec2(cos(a), sin(a));
    q.x /= aspect;
    f_colour = vec4(texture(u_input0, clamp(q + 0.5, 0.0, 1.0)).rgb, 1.0);
}
