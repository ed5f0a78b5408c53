#version 330 core
// A screen-aligned quad (triangle strip of 4) placed in pixels, for the HUD text.
uniform vec4 u_rect;           // x, y, w, h in clip space, y growing downwards (image order)
uniform vec2 u_uv_scale;       // the part of the texture the text covers
uniform float u_flip_y;        // 1 for a GL order target (window)
out vec2 v_uv;
void main() {
    vec2 p = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    v_uv = p * u_uv_scale;
    vec2 xy = u_rect.xy + p * u_rect.zw;
    if (u_flip_y > 0.5) xy.y = -xy.y;
    gl_Position = vec4(xy, 0.0, 1.0);
}
