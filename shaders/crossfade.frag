#version 330 core
#include "common.glsl"
// Scene transitions: input0 (outgoing) to input1 (incoming) as u_mix goes 0 -> 1.
uniform float u_mix;
uniform float u_mode;          // 0 mix, 1 wipe (left to right), 2 dissolve (noise)
uniform float u_softness;      // edge width of wipe/dissolve
void main() {
    vec2 uv = frag_uv();
    vec3 a = texture(u_input0, uv).rgb;
    vec3 b = texture(u_input1, uv).rgb;
    float t = u_mix;
    if (u_mode > 0.5) {
        float k = u_mode < 1.5 ? uv.x : hash12(gl_FragCoord.xy);
        float s = max(u_softness, 1e-4);
        // k in [0,1]; the edge sweeps from -s to 1 so that mix 0 and 1 are exactly A and B
        t = 1.0 - smoothstep(u_mix * (1.0 + s) - s, u_mix * (1.0 + s), k);
    }
    f_colour = vec4(mix(a, b, t), 1.0);
}
