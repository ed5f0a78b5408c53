"""Control: OSC in and out, keys, the control state the render loop reads without waiting."""
