"""Generators of the replay scenarios under ``scenarios/`` (standard library only, fixed seeds).

``generate`` writes every scenario folder and the catalogue; ``simulation``
(time, digests, workloads), ``fleet`` (base images, images, the ``Scenario``
container) and ``sboms`` (real-shaped SBOMs and in-toto links) are its building
blocks; ``attacks_*`` and ``benign_*`` hold one function per scenario.
"""
