"""irr.model"""
