"""Shape and composite ops (placeholder)."""
