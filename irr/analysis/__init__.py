"""irr.analysis"""
