"""What-if simulation: a cluster converging on the repository, event by event (``homeops simulate``).

``settings`` holds the assumed durations (each printed with the result), ``world`` turns the dependency
graph into simulated objects with their timers from the repository, ``engine`` runs the controllers'
state machines over them as a discrete-event simulation, ``report`` formats the result.
"""
