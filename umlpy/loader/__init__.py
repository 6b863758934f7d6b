"""Loading guest programs: ELF images, the initial stack and auxv."""
