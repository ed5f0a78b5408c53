"""The soak harness (`perform soak`): a headless live show under injected faults, measured from outside."""
