#version 330 core
uniform sampler2D u_text;
uniform float u_opacity;
in vec2 v_uv;
out vec4 f_colour;
void main() {
    vec4 c = texture(u_text, v_uv);   // premultiplied alpha
    f_colour = c * u_opacity;
}
