"""The app's Dashboard Studio overview: its definition, generator, static checks and render test rows."""
