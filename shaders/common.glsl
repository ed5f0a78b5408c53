// Shared by every pass: the uniforms the chain sets each frame, and colour helpers.
uniform float u_time;          // seconds since the show started
uniform int u_frame;           // frame number
uniform vec2 u_resolution;     // this pass's output size in pixels
uniform sampler2D u_input0;    // the image so far (or source slot 0)
uniform sampler2D u_input1;    // source slot 1 (second generator, incoming scene)

in vec2 v_uv;
out vec4 f_colour;

const float PI = 3.14159265358979;

vec3 rgb2hsv(vec3 c) {
    vec4 K = vec4(0.0, -1.0 / 3.0, 2.0 / 3.0, -1.0);
    vec4 p = mix(vec4(c.bg, K.wz), vec4(c.gb, K.xy), step(c.b, c.g));
    vec4 q = mix(vec4(p.xyw, c.r), vec4(c.r, p.yzx), step(p.x, c.r));
    float d = q.x - min(q.w, q.y);
    float e = 1.0e-10;
    return vec3(abs(q.z + (q.w - q.y) / (6.0 * d + e)), d / (q.x + e), q.x);
}

vec3 hsv2rgb(vec3 c) {
    vec3 p = abs(fract(c.xxx + vec3(1.0, 2.0 / 3.0, 1.0 / 3.0)) * 6.0 - 3.0);
    return c.z * clamp(p - 1.0, 0.0, 1.0);
}

float luma(vec3 c) { return dot(c, vec3(0.2126, 0.7152, 0.0722)); }

// pixel-centre uv of this fragment: exact texel centres when input and output sizes match
vec2 frag_uv() { return gl_FragCoord.xy / u_resolution; }

float hash12(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}
