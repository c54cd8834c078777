"""irr.report"""
