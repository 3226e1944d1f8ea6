"""Meta-World (Yu et al. 2019) as batched promp meta-envs on MuJoCo 4: ``assets.py`` loads metaworld's own
XML models and mends them for MuJoCo 4 (see its docstring), ``sawyer.py`` is the batched Sawyer arm,
``rewards.py`` the v3 rewards and success criteria in numpy, ``tasks.py`` the benchmark's goal sets and
train/test split, ``ml1.py`` the ML1 families. Imported (with MuJoCo) only when such an env is made.
"""
