"""irr.store"""
