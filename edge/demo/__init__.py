"""The demo: the whole gate on simulated hardware (entry-point floor, like cli/ and api/).

runner: the scenario and its scripted queue of candidates; broker: the embedded mosquitto;
serve: the lane kept running with the proctor console; cli: `examgate demo`.
"""
