"""Qt-free app layer: the inspection state with change events, request generations, the job runner's core."""
