"""
A driven, damped oscillator: which parameter moves the response most?
=====================================================================

The steady-state amplitude of m x'' + c x' + k x = F0 cos(omega t) is

    A = F0 / sqrt((k - m omega**2)**2 + (c omega)**2).

Near resonance (omega close to sqrt(k/m)) the amplitude is very sensitive to
the stiffness and the mass and less to the damping; far from it the ranking
changes.  Run it through the command line:

    dualml sensitivity examples/oscillator.py:amplitude \\
        --at m=1 c=0.3 k=4 F0=1 omega=1.8 --plot oscillator.png
"""
import numpy as np


def amplitude(m, c, k, F0, omega):
    """Steady-state amplitude of the driven damped oscillator."""
    return F0 / np.sqrt((k - m * omega**2) ** 2 + (c * omega) ** 2)


if __name__ == "__main__":
    import dualml

    at = dict(m=1.0, c=0.3, k=4.0, F0=1.0, omega=1.8)
    res = dualml.sensitivity(lambda p: amplitude(*p), list(at.values()), names=list(at))
    print(res)
