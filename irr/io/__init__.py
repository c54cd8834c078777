"""irr.io"""
