"""``python -m node`` runs the bibnetz command line."""

from node.cli import main

main()
