"""ProMP's Fig. 2 on its six MuJoCo meta-environments (``promp reproduce figure2``)."""
