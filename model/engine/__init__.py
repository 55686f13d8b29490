"""The engine: demand sources and one replication of the network on simpy, returning plain records.
"""
