"""Interactive evolution of a model's images (`perform explore`): genomes, breeding, the lineage, the grid."""
