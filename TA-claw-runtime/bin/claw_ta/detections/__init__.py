"""Detection definitions (the single source of truth), offline replay and evaluation."""
